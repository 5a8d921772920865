"""The rule language: lexer, abstract syntax, parser and value types (no request, no evaluation)."""
