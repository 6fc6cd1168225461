using Delivery.Core;

namespace Delivery.Aws;

/// <summary>An AWS API call that failed. The message is one line, "SSM SendCommand failed: Code: message", and carries
/// only what AWS answered: never the request body or credentials.</summary>
public sealed class AwsException : DeliveryException
{
    public AwsException(AwsService service, string operation, int statusCode, string errorCode, string message)
        : base($"{service.DisplayName} {operation} failed: {errorCode}: {message}")
    {
        Operation = operation;
        StatusCode = statusCode;
        ErrorCode = errorCode;
    }

    public string Operation { get; }

    /// <summary>The HTTP status, 0 when AWS could not be reached.</summary>
    public int StatusCode { get; }

    /// <summary>The error's short name, e.g. "InvalidInstanceId" (without the "com.amazonaws.ssm#" namespace).</summary>
    public string ErrorCode { get; }
}
