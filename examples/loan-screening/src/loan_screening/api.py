"""HTTP front end used by the underwriting portal."""

from fastapi import FastAPI

from .explain import explain
from .score import score

app = FastAPI()


@app.post("/applications/score")
def score_application(application: dict) -> dict:
    probability = score(application)
    return {"probability": probability, "explanation": explain(application, probability)}
