import { readDataPlaneConfig } from '../../src/lambda/data-plane-config.ts';
import { createInterceptorLambda } from '../../src/lambda/interceptor-lambda.ts';

/**
 * Permissions:
 * - dynamodb:GetItem, PutItem on PRESTAGE_PARTITIONS_TABLE (routing records; first write places a partition)
 * - dynamodb:Scan, GetItem on PRESTAGE_CELLS_TABLE (cell directory)
 * - dynamodb:UpdateItem on PRESTAGE_ACCESS_STATS_TABLE (access counts)
 * - dynamodb:GetItem, UpdateItem, PutItem on every cell table `<cellTablePrefix>*` in every data region
 *   (reads, writes, mirror writes and read repair), and their KMS keys through DynamoDB
 */

/** Lambda Function URL / HTTP API v2 entry point of the request interceptor (wiring: src/lambda/interceptor-lambda.ts). */
export const handler = createInterceptorLambda(readDataPlaneConfig());
