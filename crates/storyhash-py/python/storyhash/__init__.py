"""Near-duplicate and story clustering for news articles (storyhash).

The classes and functions are the Rust extension's (`storyhash._storyhash`);
`storyhash.spark` runs deduplication and clustering on PySpark with the same core.
"""

from ._storyhash import *  # noqa: F401,F403
from ._storyhash import __version__  # noqa: F401
