// The example consumer: wiring only; the program is consumer.ts.
import { consume, readConsumerConfig } from "./consumer";

const app = consume(readConsumerConfig());

export const openaiBaseUrl = app.openaiBaseUrl;
export const openaiApiKey = app.openaiApiKey;
