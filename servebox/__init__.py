"""servebox's own package: the `servebox` command and the code both it and the Pulumi program use.

The program (`__main__.py`, `components/`) imports the training code and the MNIST client from
here; the tools read stacks through the Pulumi Automation API and their outputs only
(components/outputs.py), never the components' internals.
"""


def __getattr__(name: str):  # noqa: ANN202
    # `from servebox import serve`, without importing the Automation API for every other use.
    if name == "serve":
        from servebox.serving import serve

        return serve
    raise AttributeError(name)
