"""The question before any search: `clean` (length, control characters), `guard`
(instructions refused), `followup` (rule-based standalone rewrite). May import
`rag.errors` and `rag.vocabulary` only.
"""
