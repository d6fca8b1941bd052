"""Drafts a plain-language explanation of a score for the underwriter."""

import os

from openai import OpenAI

client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])


def explain(application: dict, probability: float) -> str:
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Explain credit decisions to underwriters."},
            {"role": "user", "content": f"Application: {application}. Default risk: {probability:.2f}"},
        ],
    )
    return response.choices[0].message.content
