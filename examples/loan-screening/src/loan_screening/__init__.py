"""Loan screening service."""
