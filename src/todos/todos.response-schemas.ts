import type { FastifySchema } from 'fastify';

/**
 * Fastify response schemas for the todo routes: with them Fastify serializes the DTOs with
 * fast-json-stringify, compiled once per route, instead of JSON.stringify walking each object.
 * The properties are TodoDto's and TodoPageDto's in their order, so the bytes are the same.
 */
const TODO = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    description: { type: ['string', 'null'] },
    completed: { type: 'boolean' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

export const TODO_RESPONSE: FastifySchema = { response: { 200: TODO, 201: TODO } };

export const TODO_PAGE_RESPONSE: FastifySchema = {
  response: {
    200: {
      type: 'object',
      properties: {
        todos: { type: 'array', items: TODO },
        nextCursor: { type: ['string', 'null'] },
      },
    },
  },
};
