"""guidingpainter: interactive sketch colorization that tells you where to give the next colour hint.

    import guidingpainter as gp

    model = gp.Model.load()                        # the bundled model; or a path, device=, precision=
    session = gp.Session(model, "sketch.png")      # or an H x W / H x W x 3 uint8 array
    for region in session.regions:                 # rank 1 is asked first
        print(region.rank, region.id, region.pixels, region.box)
    session.set_hint(1, (230, 40, 40))             # or "#E62828"
    picture = session.colorize()                   # H x W x 3 uint8 at the sketch's size
    gp.save_png(picture, "out.png")

Errors are raised as gp.Error (a RuntimeError) with the library's message and a `kind`.
The GIL is released while the network runs; a Session serialises calls made on it from
several threads, and Sessions of one Model run in parallel.
"""

from ._core import Error, Model, Region, Session, __version__, bundled_model_path, load_image, save_png

__all__ = ["Error", "Model", "Region", "Session", "__version__", "bundled_model_path", "load_image", "save_png"]
