import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  type Attribute,
  AttributeType,
  type GlobalSecondaryIndexProps,
  ProjectionType,
} from 'aws-cdk-lib/aws-dynamodb';

export interface TableSchema {
  readonly partitionKey: Attribute;
  readonly sortKey?: Attribute;
  readonly globalSecondaryIndexes: GlobalSecondaryIndexProps[];
}

/**
 * The key schema and indexes of a table from its SDK definition (src/adapters/dynamodb/table-definitions.ts),
 * so the stacks build exactly the tables the adapters and the local runs use.
 */
export function tableSchemaOf(definition: CreateTableCommandInput): TableSchema {
  const types = new Map(
    (definition.AttributeDefinitions ?? []).map((a) => [a.AttributeName, a.AttributeType]),
  );
  const attribute = (name: string | undefined): Attribute => {
    const type = types.get(name);
    if (!name || !type)
      throw new Error(`table definition ${definition.TableName}: no attribute type for ${name}`);
    return {
      name,
      type: type === 'S' ? AttributeType.STRING : type === 'N' ? AttributeType.NUMBER : AttributeType.BINARY,
    };
  };
  const keys = (schema: CreateTableCommandInput['KeySchema']) => ({
    partitionKey: attribute(schema?.find((k) => k.KeyType === 'HASH')?.AttributeName),
    sortKey: schema?.some((k) => k.KeyType === 'RANGE')
      ? attribute(schema.find((k) => k.KeyType === 'RANGE')?.AttributeName)
      : undefined,
  });
  return {
    ...keys(definition.KeySchema),
    globalSecondaryIndexes: (definition.GlobalSecondaryIndexes ?? []).map((index) => ({
      indexName: index.IndexName!,
      ...keys(index.KeySchema),
      projectionType:
        index.Projection?.ProjectionType === 'KEYS_ONLY'
          ? ProjectionType.KEYS_ONLY
          : index.Projection?.ProjectionType === 'INCLUDE'
            ? ProjectionType.INCLUDE
            : ProjectionType.ALL,
      nonKeyAttributes: index.Projection?.NonKeyAttributes,
    })),
  };
}
