using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using NetObserv.Flows.Pbflow;

namespace NetObserv.Server.Ingest;

/// <summary>
/// Binds <see cref="CollectorService.Send"/> as <c>pbflow.Collector/Send</c> with the generated
/// messages and a request marshaller that turns a malformed body into <c>INVALID_ARGUMENT</c> with
/// the parser's reason (the generated binding would answer <c>UNKNOWN</c> without one).
/// </summary>
internal sealed class CollectorMethodProvider : IServiceMethodProvider<CollectorService>
{
    private static readonly Method<Records, CollectorReply> s_send = new(
        MethodType.Unary,
        Collector.Descriptor.FullName,
        Collector.Descriptor.Methods[0].Name,
        new Marshaller<Records>(Serialize, DeserializeRecords),
        new Marshaller<CollectorReply>(Serialize, context => CollectorReply.Parser.ParseFrom(context.PayloadAsReadOnlySequence())));

    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<CollectorService> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.AddUnaryMethod(s_send, [], (service, request, call) => service.Send(request, call));
    }

    private static Records DeserializeRecords(DeserializationContext context)
    {
        try
        {
            return Records.Parser.ParseFrom(context.PayloadAsReadOnlySequence());
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
