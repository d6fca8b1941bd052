import Anthropic from "@anthropic-ai/sdk";
import express from "express";

const anthropic = new Anthropic({ apiKey: process.env.ANTHROPIC_API_KEY });
const app = express();
app.use(express.json());

app.post("/chat", async (req, res) => {
  const message = await anthropic.messages.create({
    model: "claude-3-5-sonnet-20241022",
    max_tokens: 512,
    messages: [{ role: "user", content: req.body.question }],
  });
  res.json({ answer: message.content });
});

app.listen(3000);
