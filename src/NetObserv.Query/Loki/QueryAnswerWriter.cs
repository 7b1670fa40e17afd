using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>
/// Sends a query's answer within <see cref="QueryOptions.MaxResponseBytes"/>. The answer is first written
/// into an <see cref="AnswerBuffer"/> that keeps up to <c>keepBytes</c> (1 MiB, or the cache's largest entry
/// when the answer may be cached) and beyond that only counts: an answer over the limit is refused with a
/// 400 before anything is sent, as soon as the count passes it; a kept answer is sent (and offered to the
/// cache) from memory; a larger one is written a second time straight to the response, flushed every
/// <see cref="FlushBytes"/>, so no answer is ever held whole beyond <c>keepBytes</c>.
/// </summary>
internal static class QueryAnswerWriter
{
    /// <summary>Answers up to this size are built once, in memory; larger ones are measured, then streamed.</summary>
    public const int BufferedBytes = 1 << 20;

    private const int FlushBytes = 64 * 1024;

    /// <summary>Writes <paramref name="result"/>; returns the cacheable answer when it was kept whole in memory.</summary>
    public static async Task<CachedAnswer?> WriteAsync(HttpContext context, QueryResult result, long maxBytes, long keepBytes,
        TimeSpan elapsed)
    {
        var buffer = new AnswerBuffer((int)Math.Min(Math.Max(keepBytes, BufferedBytes), Math.Min(maxBytes, int.MaxValue)));
        long returned = 0;
        using (var w = new Utf8JsonWriter(buffer))
        {
            foreach (var count in LokiResponseWriter.WriteResult(w, result))
            {
                returned = count;
                if (buffer.Count + w.BytesPending > maxBytes)
                {
                    throw TooLarge(maxBytes);
                }
            }
        }

        var tail = new ArrayBufferWriter<byte>(512);
        LokiResponseWriter.WriteTail(tail, result.RowsProcessed, returned, elapsed);
        if (buffer.Count + tail.WrittenCount > maxBytes)
        {
            throw TooLarge(maxBytes);
        }

        if (buffer.Kept is { } kept)
        {
            var answer = new CachedAnswer(kept.ToArray(), result.RowsProcessed, returned);
            await SendAsync(context, answer.Result, tail.WrittenMemory).ConfigureAwait(false);
            return answer;
        }

        // Too large to keep: written again, to the client in pieces of about FlushBytes.
        Start(context, null);
        var piece = new ArrayBufferWriter<byte>(2 * FlushBytes);
        using (var w = new Utf8JsonWriter(piece))
        {
            foreach (var _ in LokiResponseWriter.WriteResult(w, result))
            {
                if (piece.WrittenCount + w.BytesPending >= FlushBytes)
                {
                    w.Flush();
                    await context.Response.Body.WriteAsync(piece.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
                    piece.ResetWrittenCount();
                }
            }
        }

        LokiResponseWriter.WriteTail(piece, result.RowsProcessed, returned, elapsed);
        await context.Response.Body.WriteAsync(piece.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
        return null;
    }

    /// <summary>Sends a cached answer with statistics of this request.</summary>
    public static Task WriteCachedAsync(HttpContext context, CachedAnswer answer, TimeSpan elapsed)
    {
        var tail = new ArrayBufferWriter<byte>(512);
        LokiResponseWriter.WriteTail(tail, answer.RowsProcessed, answer.Returned, elapsed);
        return SendAsync(context, answer.Result, tail.WrittenMemory);
    }

    private static async Task SendAsync(HttpContext context, ReadOnlyMemory<byte> result, ReadOnlyMemory<byte> tail)
    {
        Start(context, result.Length + tail.Length);
        await context.Response.Body.WriteAsync(result, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.WriteAsync(tail, context.RequestAborted).ConfigureAwait(false);
    }

    private static void Start(HttpContext context, long? length)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = length;
    }

    private static QueryException TooLarge(long maxBytes) => new(string.Create(CultureInfo.InvariantCulture,
        $"the response exceeds the limit (Query:MaxResponseBytes, {maxBytes:N0} bytes); narrow the query: a shorter range, ")
        + "a larger step, fewer series (a narrower selector, or fewer labels in by (...)) or, for log queries, a lower limit");

    /// <summary>Keeps what is written up to a size, then only counts (the rest is written over a scratch buffer).</summary>
    private sealed class AnswerBuffer : IBufferWriter<byte>
    {
        private readonly int _keepBytes;
        private byte[]? _buffer = new byte[4096];
        private byte[] _scratch = [];
        private int _kept;

        public AnswerBuffer(int keepBytes)
        {
            _keepBytes = keepBytes;
        }

        /// <summary>Bytes written.</summary>
        public long Count { get; private set; }

        /// <summary>What was written, or null when it was more than the buffer keeps.</summary>
        public ReadOnlyMemory<byte>? Kept => _buffer is null ? default(ReadOnlyMemory<byte>?) : _buffer.AsMemory(0, _kept);

        public void Advance(int count)
        {
            Count += count;
            if (_buffer is not null)
            {
                _kept += count;
            }
        }

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            sizeHint = Math.Max(sizeHint, 256);
            if (_buffer is not null)
            {
                if ((long)_kept + sizeHint <= _keepBytes)
                {
                    if (_kept + sizeHint > _buffer.Length)
                    {
                        Array.Resize(ref _buffer, (int)Math.Min(Math.Max((long)_buffer.Length * 2, _kept + sizeHint), _keepBytes));
                    }

                    return _buffer.AsMemory(_kept);
                }

                _buffer = null;
            }

            if (_scratch.Length < sizeHint)
            {
                _scratch = new byte[Math.Max(sizeHint, FlushBytes)];
            }

            return _scratch;
        }

        public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
    }
}
