import { hashQuery, normalizeQuery, type Interaction } from '@strata/core';
import { sampleInteractions } from '@strata/testing';
import { expect, it } from 'vitest';
import { decodeInteractions, encodeInteractions } from '../src/interactionWire.js';

it('carries every stored field of a batch to the writer thread and back unchanged', () => {
  const events = sampleInteractions(500, 11);
  // Cover the values the workload rarely or never produces: nulls, hashes, a null relevance.
  events[0] = { ...events[0]!, responseLength: null, userRating: null, ipHash: 'ps1.k.ip', userAgentHash: 'ps1.k.ua', content: [] };
  events[1] = { ...events[1]!, userRating: 5, content: [{ type: 'doc', id: 'a', relevance: null }, { type: 'doc', id: 'b', relevance: 0.5 }] };
  const decoded = decodeInteractions(structuredClone(encodeInteractions(events))).map((item) => item.event);
  expect(decoded).toEqual(events);
  expect(decoded.map((event) => Object.keys(event))).toEqual(events.map((event) => Object.keys(event)));
});

it('carries what the row insert needs, worked out on the sending side: query key and content text', () => {
  const events = sampleInteractions(50, 13);
  events[0] = { ...events[0]!, query: '  How do I RESET my password? ', content: [] };
  const decoded = decodeInteractions(structuredClone(encodeInteractions(events)));
  decoded.forEach((item, index) => {
    const event = events[index]!;
    expect(item.normalizedQuery).toBe(normalizeQuery(event.query));
    expect(item.queryHash).toBe(hashQuery(normalizeQuery(event.query)));
    expect(item.contentJson).toBe(event.content.length === 0 ? '[]' : JSON.stringify(event.content));
  });
  expect(decoded[0]!.contentJson).toBe('[]');
});

it('drops the raw network fields, which no tier stores', () => {
  const [event] = sampleInteractions(1, 12);
  const inFlight: Interaction = { ...event!, ipAddress: '203.0.113.9', userAgent: 'curl/8' };
  const [decoded] = decodeInteractions(encodeInteractions([inFlight]));
  expect(decoded!.event).toEqual(event);
  expect(decoded!.event).not.toHaveProperty('ipAddress');
});

it('round-trips an empty batch', () => {
  expect(decodeInteractions(encodeInteractions([]))).toEqual([]);
});

it('reuses one array for slice after slice, longer and shorter, each decoding to its own events only', () => {
  const events = sampleInteractions(300, 17);
  events[5] = { ...events[5]!, content: [] };
  const wire: unknown[] = [];
  for (const [start, end] of [[0, 200], [200, 210], [210, 300], [0, 0]] as const) {
    const encoded = encodeInteractions(events, start, end, undefined, wire);
    expect(encoded).toBe(wire);
    expect(decodeInteractions(structuredClone(encoded)).map((item) => item.event)).toEqual(events.slice(start, end));
    // No holes: structured clone would fall back to its slow sparse form for an array with any.
    expect(Object.keys(encoded)).toHaveLength(encoded.length);
  }
});
