"""lambdashield: security scanner and runtime guard for AWS Lambda applications."""

__version__ = "0.1.0"

__all__ = ["__version__"]
