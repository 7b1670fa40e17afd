using System.Buffers;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using NetObserv.Flows.LokiPush;
using NetObserv.Flows.Validation;
using NetObserv.Query.Access;

namespace NetObserv.Server.Ingest.LokiPush;

/// <summary>
/// <c>POST /loki/api/v1/push</c>, as Loki answers it: 204 when every line was stored; 400 with a
/// <c>text/plain</c> message when some lines were rejected (the good ones are stored all the same, as
/// Loki's distributor does), a line's flow included when the store cannot hold it (see
/// <see cref="FlowValidator"/>: too long a text, a number out of range, a time outside the retention
/// window), or the body cannot be read; 413 for bodies over the limit or with more lines than the ingest
/// channel holds; 415 for content
/// types and encodings other than JSON (optionally gzip or deflate) and protobuf+snappy; 429 when the
/// <see cref="FlowIngestService"/> answers backpressure (journal full, or with the memory durability the
/// ingest channel full), so the client retries and nothing is lost silently. 204 is sent only once the door
/// has accepted the lines (with the journal durability: once they are fsynced).
/// </summary>
internal sealed class LokiPushHandler
{
    private const int InitialBufferBytes = 64 * 1024;

    private readonly FlowIngestService _ingest;
    private readonly FlowValidator _validator;
    private readonly LokiPushOptions _options;
    private readonly LokiLabelLimits _labelLimits;
    private readonly LokiPushMetrics _metrics;
    private readonly ILogger _logger;

    public LokiPushHandler(FlowIngestService ingest, FlowValidator validator, LokiPushOptions options, LokiPushMetrics metrics,
        ILogger logger)
    {
        _ingest = ingest;
        _validator = validator;
        _options = options;
        _labelLimits = options.LabelLimits;
        _metrics = metrics;
        _logger = logger;
    }

    private enum BodyFormat
    {
        Json,
        Protobuf,
    }

    public async Task HandleAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;

        // Authentication, when configured, has already chosen the one tenant this caller writes to.
        string tenant = _options.DefaultTenant;
        if (FlowAccess.Get(context) is { } access)
        {
            tenant = access.Tenants[0];
        }
        else if (request.Headers.TryGetValue(LokiPushTenant.Header, out var tenantHeader) && tenantHeader.Count > 0
            && !string.IsNullOrEmpty(tenantHeader[0]))
        {
            tenant = tenantHeader[0]!.Trim();
            if (tenantHeader.Count > 1 || !LokiPushTenant.IsValid(tenant))
            {
                await RefuseAsync(context, StatusCodes.Status400BadRequest,
                    $"invalid tenant ID in {LokiPushTenant.Header}: one tenant of at most {LokiPushTenant.MaxLength} "
                    + "letters, digits or !-_.*'() is expected").ConfigureAwait(false);
                return;
            }
        }

        if (!TryGetFormat(request.ContentType, out var format))
        {
            await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType,
                $"unsupported Content-Type \"{request.ContentType}\": use application/json or application/x-protobuf")
                .ConfigureAwait(false);
            return;
        }

        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        if (!IsSupportedEncoding(format, encoding))
        {
            await RefuseAsync(context, StatusCodes.Status415UnsupportedMediaType,
                $"unsupported Content-Encoding \"{encoding}\" for {request.ContentType}").ConfigureAwait(false);
            return;
        }

        var max = _options.MaxBodyBytes;
        if (request.ContentLength > max)
        {
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, TooLarge(request.ContentLength.Value))
                .ConfigureAwait(false);
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = max;
        }

        byte[]? body = null;
        byte[]? decompressed = null;
        try
        {
            var (status, buffer, length, reason) = await ReadBodyAsync(request, encoding, context.RequestAborted)
                .ConfigureAwait(false);
            body = buffer;
            if (status != StatusCodes.Status200OK)
            {
                await RefuseAsync(context, status, reason!).ConfigureAwait(false);
                return;
            }

            var push = new LokiPushRequest();
            string? error;
            bool decoded;
            if (format == BodyFormat.Json)
            {
                decoded = LokiPushJsonDecoder.TryDecode(body.AsMemory(0, length), push, _labelLimits, out error);
            }
            else
            {
                var snappy = LokiPushProtobufDecoder.TryDecompress(body.AsSpan(0, length), max, out decompressed,
                    out var size, out error);
                if (snappy == LokiPushDecodeStatus.TooLarge)
                {
                    await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, error!).ConfigureAwait(false);
                    return;
                }

                decoded = snappy == LokiPushDecodeStatus.Ok
                    && LokiPushProtobufDecoder.TryDecode(decompressed.AsMemory(0, size), push, _labelLimits,
                        out error);
            }

            if (!decoded)
            {
                await RefuseAsync(context, StatusCodes.Status400BadRequest, "cannot read push request: " + error)
                    .ConfigureAwait(false);
                return;
            }

            var batch = new LokiPushBatch(_options.MaxReportedErrors);
            LokiPushFlowReader.Read(push, tenant, _options.MaxLineBytes, _validator, batch);
            await AnswerAsync(context, tenant, batch).ConfigureAwait(false);
        }
        finally
        {
            if (body is not null)
            {
                ArrayPool<byte>.Shared.Return(body);
            }

            if (decompressed is not null)
            {
                ArrayPool<byte>.Shared.Return(decompressed);
            }
        }
    }

    private async Task AnswerAsync(HttpContext context, string tenant, LokiPushBatch batch)
    {
        if (batch.Records.Count > _ingest.Capacity)
        {
            // Never fits, even in an empty channel: a retry would be refused the same way.
            await RefuseAsync(context, StatusCodes.Status413PayloadTooLarge, string.Create(CultureInfo.InvariantCulture,
                $"{batch.Records.Count} lines exceed the ingest channel's capacity of {_ingest.Capacity} records (Storage:ChannelCapacity): push fewer lines at a time"))
                .ConfigureAwait(false);
            return;
        }

        if (batch.Records.Count > 0
            && await _ingest.AcceptAsync(batch.Records, enrich: false).ConfigureAwait(false) != IngestOutcome.Accepted)
        {
            _metrics.Throttled(batch.Records.Count);
            LokiPushLog.Throttled(_logger, tenant, batch.Records.Count);
            context.Response.Headers.RetryAfter = "1";
            await WriteAsync(context, StatusCodes.Status429TooManyRequests, string.Create(CultureInfo.InvariantCulture,
                $"{_ingest.DescribeBusy(batch.Records.Count)}")).ConfigureAwait(false);
            return;
        }

        _metrics.Accepted(batch.Records.Count);
        foreach (var (reason, count) in batch.RejectedByReason)
        {
            _metrics.Rejected(reason, count);
        }

        if (batch.Rejected == 0)
        {
            LokiPushLog.Pushed(_logger, tenant, batch.Records.Count, 0);
            _metrics.Request(StatusCodes.Status204NoContent);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        var message = DescribeRejections(batch);
        LokiPushLog.LinesRejected(_logger, tenant, batch.Rejected, batch.Lines, message);
        await WriteAsync(context, StatusCodes.Status400BadRequest, message).ConfigureAwait(false);
    }

    /// <summary>
    /// One line (Loki clients log only the first line of an error body): the counts, the reasons, then the
    /// first rejected lines.
    /// </summary>
    internal static string DescribeRejections(LokiPushBatch batch)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"{batch.Rejected} of {batch.Lines} lines rejected, {batch.Records.Count} accepted (");
        var first = true;
        foreach (var (reason, count) in batch.RejectedByReason)
        {
            text.Append(first ? "" : ", ").Append(reason).Append(": ").Append(count);
            first = false;
        }

        text.Append(')');
        foreach (var error in batch.Errors)
        {
            text.Append("; ").Append(error.ReplaceLineEndings(" "));
        }

        return text.ToString();
    }

    private async Task<(int Status, byte[]? Buffer, int Length, string? Reason)> ReadBodyAsync(HttpRequest request,
        string encoding, CancellationToken cancellationToken)
    {
        var max = _options.MaxBodyBytes;
        try
        {
            if (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase))
            {
                await using var gzip = new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
                return await ReadBoundedAsync(gzip, null, max, cancellationToken).ConfigureAwait(false);
            }

            if (encoding.Equals("deflate", StringComparison.OrdinalIgnoreCase))
            {
                await using var deflate = new DeflateStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
                return await ReadBoundedAsync(deflate, null, max, cancellationToken).ConfigureAwait(false);
            }

            return await ReadBoundedAsync(request.Body, request.ContentLength, max, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (InvalidDataException ex)
        {
            return (StatusCodes.Status400BadRequest, null, 0, $"cannot decompress {encoding} body: {ex.Message}");
        }
        catch (BadHttpRequestException ex)
        {
            return (ex.StatusCode, null, 0, ex.Message);
        }
    }

    /// <summary>Reads at most <paramref name="max"/> bytes into a pooled buffer; 413 when there are more.</summary>
    private static async Task<(int Status, byte[]? Buffer, int Length, string? Reason)> ReadBoundedAsync(
        Stream stream, long? expected, int max, CancellationToken cancellationToken)
    {
        var size = expected is > 0 ? (int)Math.Min(expected.Value + 1, (long)max + 1) : Math.Min(InitialBufferBytes, max + 1);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > max)
                    {
                        break;
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)buffer.Length * 2, (long)max + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            if (length > max)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return (StatusCodes.Status413PayloadTooLarge, null, 0,
                    string.Create(CultureInfo.InvariantCulture,
                        $"request body exceeds the limit of {max} bytes (after decompression)"));
            }

            return (StatusCodes.Status200OK, buffer, length, null);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static bool TryGetFormat(string? contentType, out BodyFormat format)
    {
        var media = (contentType ?? "").AsSpan();
        var semicolon = media.IndexOf(';');
        if (semicolon >= 0)
        {
            media = media[..semicolon];
        }

        media = media.Trim();
        if (media.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            format = BodyFormat.Json;
            return true;
        }

        // Loki reads a body without a content type as protobuf.
        format = BodyFormat.Protobuf;
        return media.IsEmpty || media.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsSupportedEncoding(BodyFormat format, string encoding) =>
        encoding.Length == 0
        || encoding.Equals("identity", StringComparison.OrdinalIgnoreCase)
        || (format == BodyFormat.Json && (encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase)
            || encoding.Equals("deflate", StringComparison.OrdinalIgnoreCase)))
        // Loki tolerates "snappy" on protobuf bodies: they are snappy blocks by definition.
        || (format == BodyFormat.Protobuf && encoding.Equals("snappy", StringComparison.OrdinalIgnoreCase));

    private string TooLarge(long bytes) => string.Create(CultureInfo.InvariantCulture,
        $"request body of {bytes} bytes exceeds the limit of {_options.MaxBodyBytes} bytes");

    private async Task RefuseAsync(HttpContext context, int status, string reason)
    {
        LokiPushLog.Refused(_logger, status, reason);
        await WriteAsync(context, status, reason).ConfigureAwait(false);
    }

    private async Task WriteAsync(HttpContext context, int status, string message)
    {
        _metrics.Request(status);
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message, context.RequestAborted).ConfigureAwait(false);
    }
}
