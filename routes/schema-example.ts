// Example values made from JSON Schemas, for the docs page: a schema's own example when it has one,
// else its default, its first allowed value, or a placeholder of its type, built up field by field.
import type { JsonSchema } from "./openapi.ts";

/** Objects nest no deeper than this in an example: enough for every answer the API gives. */
const EXAMPLE_DEPTH_MAX = 8;

export function exampleOf(schema: JsonSchema, depth = 0): unknown {
  const examples = schema.examples;
  if (Array.isArray(examples) && examples.length > 0) return examples[0];
  if ("const" in schema) return schema.const;
  if ("default" in schema) return schema.default;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const choices = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (choices !== undefined && choices.length > 0) return exampleOf(choices[0]!, depth);
  if (depth >= EXAMPLE_DEPTH_MAX) return null;
  switch (typeOf(schema)) {
    case "object":
      return objectExample(schema, depth);
    case "array":
      return schema.items === undefined ? [] : [exampleOf(schema.items as JsonSchema, depth + 1)];
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? Math.max(schema.minimum, 0) : 0;
    case "boolean":
      return true;
    case "string":
      return "string";
    case "null":
      return null;
    default:
      // A schema that allows anything: keys and values of records, given as JSON.
      return { any: "JSON" };
  }
}

/** The schema's type; of ["string", "null"], the one that is not null. */
export function typeOf(schema: JsonSchema): string | undefined {
  const { type } = schema;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return (type as string[]).find((name) => name !== "null") ?? "null";
  if (schema.properties !== undefined) return "object";
  return undefined;
}

function objectExample(schema: JsonSchema, depth: number): Record<string, unknown> {
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const example: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) example[name] = exampleOf(property, depth + 1);
  const additional = schema.additionalProperties;
  if (Object.keys(example).length === 0 && typeof additional === "object" && additional !== null) {
    // A map: one entry, keyed as its key schema allows (partition numbers are digits).
    const pattern = (schema.propertyNames as JsonSchema | undefined)?.pattern;
    example[pattern === "^\\d+$" ? "0" : "key"] = exampleOf(additional as JsonSchema, depth + 1);
  }
  return example;
}
