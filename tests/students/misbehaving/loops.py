"""Never returns."""


def loss_and_grads(params, x, y):
    while True:
        pass
