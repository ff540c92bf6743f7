/**
 * Signature Version 4 against the examples the AWS documentation publishes with its example keys:
 * if the canonical request, the string to sign or the signature differ in one byte, S3 refuses.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError } from '../../sdk/core/errors.js';
import {
  EMPTY_SHA256,
  MAX_PRESIGN_EXPIRES_S,
  amzDate,
  canonicalQuery,
  canonicalUri,
  presignUrl,
  sha256Hex,
  signRequest,
  uriEncode,
} from '../../ota/server/artefacts/sigv4.js';
import { verifySigV4 } from '../support/s3.js';

/**
 * Amazon S3 API Reference, "Authenticating Requests: Using Query Parameters (AWS Signature
 * Version 4)", the example of a presigned GET of `test.txt` in `examplebucket`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html), and
 * "Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk",
 * examples "GET Object" and "PUT Object"
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html).
 * The keys are the documentation's example keys; the values below are as published.
 */
const AWS_EXAMPLE = {
  credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
  region: 'us-east-1',
  now: Date.UTC(2013, 4, 24, 0, 0, 0),
  presignedGet: {
    url: 'https://examplebucket.s3.amazonaws.com/test.txt',
    expiresS: 86400,
    canonicalRequest: [
      'GET',
      '/test.txt',
      'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host',
      'host:examplebucket.s3.amazonaws.com',
      '',
      'host',
      'UNSIGNED-PAYLOAD',
    ].join('\n'),
    stringToSign: ['AWS4-HMAC-SHA256', '20130524T000000Z', '20130524/us-east-1/s3/aws4_request', '3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04'].join('\n'),
    signature: 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    presignedUrl:
      'https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  },
  getObject: {
    url: 'https://examplebucket.s3.amazonaws.com/test.txt',
    headers: { Range: 'bytes=0-9' },
    canonicalRequest: [
      'GET',
      '/test.txt',
      '',
      'host:examplebucket.s3.amazonaws.com',
      'range:bytes=0-9',
      'x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'x-amz-date:20130524T000000Z',
      '',
      'host;range;x-amz-content-sha256;x-amz-date',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ].join('\n'),
    stringToSign: ['AWS4-HMAC-SHA256', '20130524T000000Z', '20130524/us-east-1/s3/aws4_request', '7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972'].join('\n'),
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  },
  putObject: {
    url: 'https://examplebucket.s3.amazonaws.com/test$file.text',
    headers: { Date: 'Fri, 24 May 2013 00:00:00 GMT', 'x-amz-storage-class': 'REDUCED_REDUNDANCY' },
    body: 'Welcome to Amazon S3.',
    payloadHash: '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    stringToSign: ['AWS4-HMAC-SHA256', '20130524T000000Z', '20130524/us-east-1/s3/aws4_request', '9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d'].join('\n'),
    signature: '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
  },
} as const;

const { credentials, region, now } = AWS_EXAMPLE;

describe('SigV4: the AWS documentation examples', () => {
  it('presigned GET: the canonical request, the string to sign, the signature and the URL are the published ones', () => {
    const example = AWS_EXAMPLE.presignedGet;
    const presigned = presignUrl({ method: 'GET', url: new URL(example.url), credentials, region, now, expiresS: example.expiresS });
    expect(presigned.canonicalRequest).toBe(example.canonicalRequest);
    expect(presigned.stringToSign).toBe(example.stringToSign);
    expect(presigned.signature).toBe(example.signature);
    expect(presigned.url).toBe(example.presignedUrl);
  });

  it('GET Object with a Range header: the published canonical request, string to sign and Authorization header', () => {
    const example = AWS_EXAMPLE.getObject;
    const signed = signRequest({ method: 'GET', url: new URL(example.url), headers: example.headers, payloadHash: EMPTY_SHA256, credentials, region, now });
    expect(signed.canonicalRequest).toBe(example.canonicalRequest);
    expect(signed.stringToSign).toBe(example.stringToSign);
    expect(signed.authorization).toBe(example.authorization);
    expect(signed.headers).toMatchObject({
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-date': '20130524T000000Z',
      'x-amz-content-sha256': EMPTY_SHA256,
      authorization: example.authorization,
    });
    expect(signed.pathAndQuery).toBe('/test.txt');
  });

  it('PUT Object with a $ in the key and a signed body: the published payload hash, string to sign and signature', () => {
    const example = AWS_EXAMPLE.putObject;
    expect(sha256Hex(example.body)).toBe(example.payloadHash);
    const signed = signRequest({ method: 'PUT', url: new URL(example.url), headers: example.headers, payloadHash: example.payloadHash, credentials, region, now });
    expect(signed.canonicalRequest.split('\n').slice(0, 2)).toEqual(['PUT', '/test%24file.text']);
    expect(signed.stringToSign).toBe(example.stringToSign);
    expect(signed.signature).toBe(example.signature);
    expect(signed.pathAndQuery).toBe('/test%24file.text');
  });
});

describe('SigV4: encoding, scope and limits', () => {
  it('encodes every byte but the RFC 3986 unreserved characters, once, keeping slashes in paths', () => {
    expect(uriEncode("aZ09-._~ !'()*+$/é", false)).toBe('aZ09-._~%20%21%27%28%29%2A%2B%24%2F%C3%A9');
    expect(uriEncode('a b/c', true)).toBe('a%20b/c');
    // Already encoded or not, one canonical URI: never encoded twice.
    expect(canonicalUri('/fw/a b+(1).bin')).toBe('/fw/a%20b%2B%281%29.bin');
    expect(canonicalUri('/fw/a%20b%2B%281%29.bin')).toBe('/fw/a%20b%2B%281%29.bin');
    expect(canonicalUri('')).toBe('/');
  });

  it('sorts the query by name then value; a plus is a plus; a bare name has an empty value', () => {
    expect(canonicalQuery('?prefix=J&max-keys=2')).toBe('max-keys=2&prefix=J');
    expect(canonicalQuery('lifecycle')).toBe('lifecycle=');
    expect(canonicalQuery('b=2&a=y&a=x&c=1+1')).toBe('a=x&a=y&b=2&c=1%2B1');
  });

  it('formats the time as ISO 8601 basic, UTC, whole seconds', () => {
    expect(amzDate(Date.UTC(2026, 11, 5, 7, 8, 9, 999))).toBe('20261205T070809Z');
    expect(amzDate(new Date('2013-05-24T00:00:00Z'))).toBe('20130524T000000Z');
  });

  it('every input takes part: another secret, region, time, key or lifetime gives another signature', () => {
    const base = { method: 'GET', url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'), credentials, region, now, expiresS: 900 };
    const signature = presignUrl(base).signature;
    const variants = [
      { ...base, credentials: { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` } },
      { ...base, region: 'eu-west-1' },
      { ...base, now: now + 1000 },
      { ...base, url: new URL('https://examplebucket.s3.amazonaws.com/test.txu') },
      { ...base, expiresS: 901 },
    ];
    for (const variant of variants) expect(presignUrl(variant).signature).not.toBe(signature);
  });

  it('a session token is signed: in the query of a presigned URL, in the headers of a request', () => {
    const withToken = { ...credentials, sessionToken: 'token/with+chars' };
    const presigned = presignUrl({ method: 'GET', url: new URL('https://b.s3.amazonaws.com/k'), credentials: withToken, region, now, expiresS: 60 });
    expect(presigned.canonicalRequest).toContain('X-Amz-Security-Token=token%2Fwith%2Bchars');
    expect(presigned.url).toContain('X-Amz-Security-Token=token%2Fwith%2Bchars');
    const signed = signRequest({ method: 'HEAD', url: new URL('https://b.s3.amazonaws.com/k'), payloadHash: EMPTY_SHA256, credentials: withToken, region, now });
    expect(signed.headers['x-amz-security-token']).toBe('token/with+chars');
    expect(signed.authorization).toContain('SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,');
  });

  it('refuses a lifetime outside 1 s to 7 days, and empty credentials', () => {
    const base = { method: 'GET', url: new URL('https://b.s3.amazonaws.com/k'), credentials, region, now };
    expect(() => presignUrl({ ...base, expiresS: MAX_PRESIGN_EXPIRES_S })).not.toThrow();
    for (const expiresS of [0, -1, 1.5, MAX_PRESIGN_EXPIRES_S + 1, Number.NaN]) {
      expect(() => presignUrl({ ...base, expiresS })).toThrow(ArgumentError);
    }
    expect(() => presignUrl({ ...base, expiresS: 60, credentials: { accessKeyId: '', secretAccessKey: 's' } })).toThrow(ArgumentError);
  });
});

describe('the test S3 server\'s signature check agrees with the AWS examples', () => {
  const secrets = new Map([[credentials.accessKeyId, credentials.secretAccessKey]]);

  it('accepts the documented GET Object request and presigned URL; refuses them altered', () => {
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: AWS_EXAMPLE.getObject.authorization,
    };
    expect(verifySigV4({ method: 'GET', url: '/test.txt', headers }, secrets).refuse).toBeUndefined();
    expect(verifySigV4({ method: 'GET', url: '/test.txt', headers: { ...headers, range: 'bytes=0-10' } }, secrets).refuse).toBe('SignatureDoesNotMatch');
    expect(verifySigV4({ method: 'GET', url: '/test.txu', headers }, secrets).refuse).toBe('SignatureDoesNotMatch');
    expect(verifySigV4({ method: 'GET', url: '/test.txt', headers }, new Map([[credentials.accessKeyId, 'other']])).refuse).toBe('SignatureDoesNotMatch');

    const presigned = new URL(AWS_EXAMPLE.presignedGet.presignedUrl);
    const target = `${presigned.pathname}${presigned.search}`;
    const host = { host: 'examplebucket.s3.amazonaws.com' };
    expect(verifySigV4({ method: 'GET', url: target, headers: host }, secrets).refuse).toBeUndefined();
    // A Range header is not signed in a presigned URL: a device may add one.
    expect(verifySigV4({ method: 'GET', url: target, headers: { ...host, range: 'bytes=10-99' } }, secrets).refuse).toBeUndefined();
    expect(verifySigV4({ method: 'GET', url: target.replace('X-Amz-Expires=86400', 'X-Amz-Expires=86401'), headers: host }, secrets).refuse).toBe('SignatureDoesNotMatch');
    expect(verifySigV4({ method: 'GET', url: target, headers: { host: 'otherbucket.s3.amazonaws.com' } }, secrets).refuse).toBe('SignatureDoesNotMatch');
    expect(verifySigV4({ method: 'GET', url: '/test.txt', headers: host }, secrets).refuse).toBe('AccessDenied');
  });
});
