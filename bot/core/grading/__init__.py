"""Grading: guards, the rubric, the contradiction check and the model's critique."""
