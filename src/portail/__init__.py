"""Portail Familles."""
