"""The site tests need a built book (``make book``) and Debian's Chromium.

They are collected only when ``INFOMECH_SITE_TESTS=1`` (``make test`` sets it after building the
book), so a plain ``pytest tests/`` unit run does not depend on them.
"""

import os

if os.environ.get("INFOMECH_SITE_TESTS", "") != "1":
    collect_ignore_glob = ["test_*.py"]
