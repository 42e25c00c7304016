"""Scoring, training and the glue between crawled ads, features and the warehouse."""
