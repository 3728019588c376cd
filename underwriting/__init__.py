"""underwriting: price hack and theft insurance for crypto exchanges and compute the reserve credit.

Data flow: submission → features → risk score and survival → losses → pricing → reserve credit.
The top-level import is kept light (no pandas/scikit-learn/lifelines/scipy) so the CLI starts fast.
"""

from underwriting._version import __version__

__all__ = ["__version__"]
