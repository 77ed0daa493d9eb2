"""The sample's training, where the tools have always imported it: the code lives with the program
(components/training.py), which must import nothing from servebox; this name is the same module."""

import sys

from components import training

sys.modules[__name__] = training
