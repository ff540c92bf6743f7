/**
 * Broker credentials kept out of what is printed: a password in a broker URL
 * (`mqtt://user:password@host`, RFC 3986 §3.2.1 userinfo) is taken out of the URL the transport
 * shows (banner, status, errors, the Thing Description's forms) and used only to connect.
 */

/** userinfo with a password, in any URL of the text: scheme, `//`, user, `:`, password, `@`. */
const PASSWORD_IN_URL = /([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:]*):[^\s/?#@]*@/gi;

/**
 * `text` with the password of every URL in it replaced by `***` (the user name stays, to tell
 * accounts apart).
 *
 * @example
 * ```ts
 * redactCredentials('cannot reach mqtt://admin:S3cret@broker:1883') // 'cannot reach mqtt://admin:***@broker:1883'
 * ```
 */
export function redactCredentials(text: string): string {
  return text.replace(PASSWORD_IN_URL, '$1:***@');
}

/**
 * Splits a parsed broker URL into the URL without userinfo and the user name and password it
 * held (percent-decoded), if any.
 *
 * @example
 * ```ts
 * splitCredentials(new URL('mqtt://admin:S3cret@broker:1883')) // { url: 'mqtt://broker:1883', username: 'admin', password: 'S3cret' }
 * ```
 */
export function splitCredentials(url: URL): { url: string; username?: string; password?: string } {
  if (url.username === '' && url.password === '') return { url: url.href };
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  return {
    url: bare.href,
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
  };
}
