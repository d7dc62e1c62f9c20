"""The child process of test_api.py's test_colorize_lets_go_of_the_gil.

    python gil_handshake.py MODEL SKETCH HANG_S

Exits 0 once another thread has run Python code while this one was inside colorize().
With the GIL kept there it can never get that far: the two threads deadlock, and after
HANG_S seconds faulthandler prints where every thread stands and exits 1.

Why the outcome cannot depend on scheduling: thread B's colorize() holds the session and,
in its first progress report, lets the main thread go and then waits (Event.wait) for it.
The main thread calls colorize() on the same session, which has to wait until B's run is
over. B's wait can only return once B has the GIL, and after `go.set()` the main thread
gives the GIL up nowhere but inside colorize(): a switch interval of days stops the
interpreter from handing it over between bytecodes. So

  - GIL released by colorize(): the main thread waits for the session without the GIL,
    B takes it, returns from its report, finishes, and the main thread's run follows;
    nothing has to happen within any time.
  - GIL kept: the main thread waits for the session holding the GIL, B waits for the GIL
    holding the session, forever; never a pass.
"""

import faulthandler
import sys
import threading

import guidingpainter as gp


def main(model_path, sketch, hang_s):
    faulthandler.dump_traceback_later(hang_s, exit=True)
    model = gp.Model.load(model_path, device="sim")
    holding, go, woke = threading.Event(), threading.Event(), threading.Event()

    def progress(stage, done, total):
        # Only B's first report waits: the main thread's own run and the segmentation
        # below report here too.
        if stage == "colorize" and threading.current_thread() is not threading.main_thread() and not holding.is_set():
            holding.set()
            go.wait()
            woke.set()
        return True

    session = gp.Session(model, sketch, size=64, progress=progress)
    other = threading.Thread(target=session.colorize, name="B")
    sys.setswitchinterval(1e6)
    other.start()
    holding.wait()
    go.set()
    session.colorize()
    # The main thread's run could start only after B's ended, and B's could end only after
    # B woke: always true here, checked so that a broken premise shows.
    assert woke.is_set(), "colorize() returned before the other thread woke"
    other.join()
    faulthandler.cancel_dump_traceback_later()
    print("another thread ran Python code while colorize() waited for the session")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
