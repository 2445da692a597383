"""The language model: protocol, llama.cpp in-process, an OpenAI-compatible server, the worker."""
