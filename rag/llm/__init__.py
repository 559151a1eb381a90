"""llm mode: `backends` (llama.cpp, OpenAI-compatible), `generate` (grounded,
checked generation), `confirm` (the optional check of uncertain answers), `models`
(the Qwen GGUF assembled from its packages). May import `rag.answer`, `rag.retrieve`,
`rag.question`, `rag.config`, `rag.types` and `rag.vocabulary`.
"""
