"""Multilingual lure-feature extraction with evidence spans.

>>> from features import FeatureExtractor
>>> fx = FeatureExtractor()
>>> f = fx.extract("Darbs Norvēģijā, pieredze nav nepieciešama! Raksti WhatsApp +371 29145678")
"""

from features.contacts import extract_contacts
from features.extractor import FeatureExtractor
from features.facts import FACT_KINDS, extract_facts
from features.langmix import LanguageMix, detect_mix
from features.language import detect_language
from features.model import AdFeatures, AgeRange, Contact, Destination, Evidence, Salary
from features.schema import FEATURE_NAMES, SUPPORTED_LANGUAGES
from features.taxonomy import INDICATORS

__all__ = [
    "FACT_KINDS",
    "FEATURE_NAMES",
    "INDICATORS",
    "SUPPORTED_LANGUAGES",
    "AdFeatures",
    "AgeRange",
    "Contact",
    "Destination",
    "Evidence",
    "FeatureExtractor",
    "LanguageMix",
    "Salary",
    "detect_language",
    "detect_mix",
    "extract_contacts",
    "extract_facts",
]
