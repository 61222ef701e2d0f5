"""Tests of the model-deploy repo."""
