"""Formatting, the Markdown results document, figures, the review notebook and the HTML report."""
