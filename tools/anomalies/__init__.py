"""Anomaly detection for business metrics: seasonal, robust, judged from the past."""

from tools.anomalies.detector import DEFAULT_SENSITIVITY, Detection, DetectionInputError, Finding, detect

__all__ = ["DEFAULT_SENSITIVITY", "Detection", "DetectionInputError", "Finding", "detect"]
