import { IncomingHttpHeaders } from 'node:http';
import { unreadableBody } from './body-encoding';
import { UnsupportedCharsetException, UnsupportedContentEncodingException } from './common.errors';

const withBody = (headers: IncomingHttpHeaders): IncomingHttpHeaders => ({
  'content-length': '13',
  ...headers,
});

describe('unreadableBody', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'application/json; charset=UTF-8',
    'application/json;charset="utf-8"',
    'application/json; Charset=utf8',
    'application/json; foo=bar; charset=utf-8',
  ])('lets %s through', (type) => {
    expect(unreadableBody(withBody({ 'content-type': type }))).toBeUndefined();
  });

  it.each([
    'application/json; charset=latin1',
    'application/json; charset="ISO-8859-1"',
    'application/json; charset=utf-16',
    'application/json; charset=',
    'application/json; charset',
    'application/json; charset="utf-8 "',
    'application/json; charset="utf-8;"',
    'application/json; charset=utf-8; charset=utf-8',
    'application/json; charset=utf-8; charset=latin1',
  ])('refuses %s as an unsupported charset', (type) => {
    expect(unreadableBody(withBody({ 'content-type': type }))).toBeInstanceOf(
      UnsupportedCharsetException,
    );
  });

  it.each(['gzip', 'br', 'x-unknown', 'identity, gzip', 'gzip,identity', 'Identity, deflate'])(
    'refuses Content-Encoding: %s, with Accept-Encoding: identity',
    (coding) => {
      const refusal = unreadableBody(
        withBody({ 'content-type': 'application/json', 'content-encoding': coding }),
      );
      expect(refusal).toBeInstanceOf(UnsupportedContentEncodingException);
      expect(refusal?.getStatus()).toBe(415);
      expect(refusal?.headers).toEqual({ 'accept-encoding': 'identity' });
    },
  );

  it.each(['identity', 'IDENTITY', ' identity ', 'identity, identity', ''])(
    'lets Content-Encoding: %j through',
    (coding) => {
      expect(unreadableBody(withBody({ 'content-encoding': coding }))).toBeUndefined();
    },
  );

  it('judges chunked bodies too', () => {
    expect(
      unreadableBody({ 'transfer-encoding': 'chunked', 'content-encoding': 'gzip' }),
    ).toBeInstanceOf(UnsupportedContentEncodingException);
  });

  it('does not judge a request without a body', () => {
    const headers = {
      'content-type': 'application/json; charset=latin1',
      'content-encoding': 'br',
    };
    expect(unreadableBody(headers)).toBeUndefined();
    expect(unreadableBody({ ...headers, 'content-length': '0' })).toBeUndefined();
  });
});
