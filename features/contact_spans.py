"""Where the contacts in a free text are, for scrubbing (retention): :func:`features.extract_contacts` plus the
handles it does not report as contacts.

``extract_contacts`` finds phones (international and national formats), e-mails (also obfuscated), messenger
numbers and handles, and URLs. A bare ``@handle`` or an Instagram/TikTok/Snapchat handle is not a contact the
extractor records (it is not tied to a messenger), but in an analyst's note or a crawled field it identifies a
person just the same, so :func:`contact_spans` covers them too.
"""

from __future__ import annotations

import re

from features.contacts import extract_contacts, lower_same_length

# "@model_casting_lv" (not the domain part of an e-mail address, not inside a word)
_AT_HANDLE_RE = re.compile(r"(?<![\w.@])@[a-z0-9_][a-z0-9_.]{2,29}[a-z0-9_]")
# "instagram: model_casting_lv", "insta model.casting", "IG - @x_y_z", "tiktok @...", "snap: ..."
_NETWORK_HANDLE_RE = re.compile(
    r"\b(?:instagram|insta|ig|tiktok|tik\s?tok|snapchat|snap|vk|facebook|fb|inst)\b[\s:;,\-–—]{0,4}"
    r"(?P<handle>@?[a-z0-9_][a-z0-9_.]{2,29}[a-z0-9_])"
)


def contact_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every contact in ``text`` (phones, e-mails, messenger contacts, URLs and handles),
    sorted; spans may overlap."""
    if not text:
        return []
    low = lower_same_length(text)
    spans = [(c.start, c.end) for c in extract_contacts(text, low=low)]
    if "@" in low:
        spans += [m.span() for m in _AT_HANDLE_RE.finditer(low)]
    spans += [m.span("handle") for m in _NETWORK_HANDLE_RE.finditer(low)]
    # extract_contacts reports each contact once, at its first occurrence: a contact written twice (a page text
    # repeating the e-mail under the ad) must be covered wherever it occurs
    for needle in {low[start:end] for start, end in spans if end - start >= 4}:
        position = low.find(needle)
        while position != -1:
            spans.append((position, position + len(needle)))
            position = low.find(needle, position + len(needle))
    return sorted(set(spans))
