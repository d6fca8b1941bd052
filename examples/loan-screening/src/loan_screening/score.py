"""Scores applications with the gradient-boosted credit model."""

from pathlib import Path

import joblib
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier

MODEL_PATH = Path(__file__).resolve().parents[2] / "models" / "credit_model.joblib"


def load_model() -> GradientBoostingClassifier:
    return joblib.load(MODEL_PATH)


def score(application: dict) -> float:
    model = load_model()
    frame = pd.DataFrame([application])
    return float(model.predict_proba(frame)[0][1])
