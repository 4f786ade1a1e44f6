"""Accord: shape a chat assistant's behaviour the way a careful lab does it, in the open.

The package is organised by domain (see docs/ARCHITECTURE.md): ``accord.spec`` is the
written behaviour spec, ``accord.store`` the database, and later packages add the model,
the demo world, training, review, customisation, deliberation and audits.
"""

__version__ = "0.1.0"
