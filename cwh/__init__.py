"""Compliance-as-code audit of Windows servers hosting ConnectWise ScreenConnect on-premises."""

__version__ = "0.1.0"
