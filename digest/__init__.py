"""Weekly digest for NGOs: aggregate queries, charts, HTML/PDF/CSV rendering, archive and e-mail delivery.

Nothing in a digest identifies a person: the queries return counts and lexicon phrases only, small counts are
suppressed (``"<k"``), phrases are scrubbed of anything contact-like. See :mod:`digest.service`.
"""
