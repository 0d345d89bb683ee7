"""The test suite: folders mirror the packages, plus ``system/`` and ``helpers/``."""
