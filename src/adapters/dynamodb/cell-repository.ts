import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { CellRecord, CellStatus } from '../../domain/data-plane/cell-record.ts';
import { InvalidRequestError } from '../../domain/data-plane/data-plane-errors.ts';
import type { CellRepository } from '../../domain/data-plane/ports.ts';
import { isConditionalCheckFailed } from './dynamodb-errors.ts';

function toCell(item: Record<string, unknown>): CellRecord {
  const { pk: _pk, ...rest } = item;
  return rest as unknown as CellRecord;
}

/** The cells table (topology): region, table, capacity and status per cell. */
export class DynamoCellRepository implements CellRepository {
  private readonly documents: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(documents: DynamoDBDocumentClient, table: string) {
    this.documents = documents;
    this.table = table;
  }

  async list(): Promise<CellRecord[]> {
    const out: CellRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new ScanCommand({ TableName: this.table, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      for (const item of page.Items ?? []) out.push(toCell(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<CellRecord | undefined> {
    const result = await this.documents.send(
      new GetCommand({ TableName: this.table, Key: { pk: id }, ConsistentRead: true }),
    );
    return result.Item ? toCell(result.Item) : undefined;
  }

  async register(cell: CellRecord): Promise<CellRecord> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: cell.id, ...cell },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return cell;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return (await this.get(cell.id))!;
    }
  }

  async setStatus(id: string, status: CellStatus): Promise<CellRecord> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: id },
          UpdateExpression: 'SET #s = :s ADD version :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toCell(result.Attributes!);
    } catch (error) {
      if (isConditionalCheckFailed(error))
        throw new InvalidRequestError('UNKNOWN_CELL', `unknown cell '${id}'`);
      throw error;
    }
  }
}
