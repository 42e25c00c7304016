"""Multilingual lure-feature extraction with evidence spans.

>>> from features import FeatureExtractor
>>> fx = FeatureExtractor()
>>> f = fx.extract("Darbs Norvēģijā, pieredze nav nepieciešama! Raksti WhatsApp +371 29145678")
"""

from features.contacts import extract_contacts
from features.extractor import FeatureExtractor
from features.language import detect_language
from features.model import AdFeatures, Contact, Evidence
from features.schema import FEATURE_NAMES, SUPPORTED_LANGUAGES
from features.taxonomy import INDICATORS

__all__ = [
    "FEATURE_NAMES",
    "INDICATORS",
    "SUPPORTED_LANGUAGES",
    "AdFeatures",
    "Contact",
    "Evidence",
    "FeatureExtractor",
    "detect_language",
    "extract_contacts",
]
