"""servebox's own package: the `servebox` command and the code both it and the Pulumi program use.

The program (`__main__.py`, `components/`) imports the training code and the MNIST client from
here; the tools read stacks through the Pulumi Automation API and their outputs only
(components/outputs.py), never the components' internals.
"""
