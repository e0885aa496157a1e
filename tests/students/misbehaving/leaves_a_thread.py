"""Right, but starts a thread that never ends (not a daemon: it would keep its process alive)."""
import threading
import time

from _right import right

threading.Thread(target=time.sleep, args=(3600,)).start()


def loss_and_grads(params, x, y):
    return right(params, x, y)
