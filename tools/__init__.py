"""The `make run` launcher, the model cache and the evaluation tools."""
