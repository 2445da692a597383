"""The engine: bank, index, llm, grading, coach, schedule, store. Imports no platform library."""
