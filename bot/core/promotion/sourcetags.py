"""Which git tag of an app's source repository an image tag was released as, for the compare
and release-notes links of a promotion PR.

The config maps tags one way only: ``tag_pattern`` and ``image_tag`` turn a git tag into an
image tag. Links need the way back, so the prefix is found by trying the usual ones and keeping
the first that the app's own mapping turns back into the image tag: ``v`` (GitHub's convention
and the default pattern's), none, then the literal text the pattern puts before its
``version`` group (``release-`` in ``release-(?P<version>.+)``). When none does (a pattern that
starts with a group, such as an ``environment`` one), links use ``v`` as they always did.
"""

from __future__ import annotations

import re

from bot.core.config.model import App

DEFAULT_PREFIX = "v"
_VERSION_GROUP = "(?P<version>"
_ESCAPE = re.compile(r"\\(\W)")  # ``\-``, ``\.``: an escaped punctuation mark is that mark
_META = frozenset("\\^$.|?*+()[]{}")


def source_tag(tag: str, prefix: str) -> str:
    """``tag`` with ``prefix`` in front, unless it already starts with it (``v1.2.3`` images)."""
    return tag if not prefix or tag.startswith(prefix) else f"{prefix}{tag}"


def source_tag_prefix(app: App, tag: str) -> str:
    """The prefix that makes image ``tag`` the git tag the app's ``tag_pattern`` and
    ``image_tag`` map back to ``tag``; ``v`` when no candidate does."""
    for prefix in dict.fromkeys((DEFAULT_PREFIX, "", *_literal_start(app.tag_pattern))):
        found = app.match_git_tag(source_tag(tag, prefix))
        if found is not None and found.image_tag == tag:
            return prefix
    return DEFAULT_PREFIX


def _literal_start(pattern: str) -> tuple[str, ...]:
    """The text before the ``version`` group when it is plain text, else nothing."""
    head, found, _ = pattern.partition(_VERSION_GROUP)
    if not found or _META & set(_ESCAPE.sub("", head)):
        return ()
    return (_ESCAPE.sub(r"\1", head),)
