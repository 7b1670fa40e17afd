using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using NetObserv.Flows.Pbflow;

namespace NetObserv.Server.Ingest;

/// <summary>
/// Binds <see cref="CollectorService.Send"/> as <c>pbflow.Collector/Send</c> with the generated
/// messages and a request marshaller that turns a malformed body into <c>INVALID_ARGUMENT</c> with
/// the parser's reason (the generated binding would answer <c>UNKNOWN</c> without one). Before
/// parsing, the records in the body are counted from its outline and a batch that cannot fit in the
/// ingest channel now, or has more records than <see cref="IngestOptions.MaxRecordsPerMessage"/> or the
/// channel's capacity, is refused with <c>RESOURCE_EXHAUSTED</c> without being decoded. A well-formed
/// message is then read by <see cref="CollectorService.TryRead"/> (records mapped straight from the bytes);
/// any other goes to the generated parser, whose error becomes the <c>INVALID_ARGUMENT</c> answer.
/// </summary>
internal sealed class CollectorMethodProvider : IServiceMethodProvider<CollectorService>
{
    private readonly Method<Records, CollectorReply> _send;

    public CollectorMethodProvider(CollectorService service)
    {
        ArgumentNullException.ThrowIfNull(service);
        _send = new Method<Records, CollectorReply>(
            MethodType.Unary,
            Collector.Descriptor.FullName,
            Collector.Descriptor.Methods[0].Name,
            new Marshaller<Records>(Serialize, context => DeserializeRecords(context, service)),
            new Marshaller<CollectorReply>(Serialize,
                context => CollectorReply.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));
    }

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<CollectorService> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AddUnaryMethod(_send, [], (service, request, call) => service.Send(request, call));
    }

    private static Records DeserializeRecords(DeserializationContext context, CollectorService service)
    {
        var payload = context.PayloadAsReadOnlySequence();
        var records = new Records();
        if (PbflowWire.TryCountRecords(payload, out var count))
        {
            service.RefuseBeforeParsing(count);
            if (service.TryRead(payload, count) is { } read)
            {
                return read;
            }

            // Sized once from the outline instead of grown (and copied) while parsing.
            records.Entries.Capacity = count;
        }

        try
        {
            records.MergeFrom(payload);
            return records;
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument,
                "malformed pbflow.Records message: " + ex.Message));
        }
    }

    private static void Serialize<T>(T message, SerializationContext context)
        where T : IBufferMessage
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }
}
