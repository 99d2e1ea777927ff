using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using PoolAI.Volumes;

namespace PoolAI.Gateway.S3;

/// <summary>
/// S3's XML documents (namespace <see cref="Namespace"/>, https://docs.aws.amazon.com/AmazonS3/latest/API/): the
/// answers the gateway writes, as UTF-8 bytes, and the request bodies it reads.
/// </summary>
public static class S3Xml
{
    /// <summary>S3's XML namespace.</summary>
    public const string Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

    /// <summary>Longest XML request body read (CompleteMultipartUpload of 10000 parts, DeleteObjects of 1000 keys), bytes.</summary>
    public const int MaxRequestBytes = 4 * 1024 * 1024;

    private static readonly XmlWriterSettings WriterSettings = new() { Encoding = new UTF8Encoding(false), Indent = false };

    private static readonly XmlReaderSettings ReaderSettings = new() { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, IgnoreComments = true };

    /// <summary>An error document: <c>&lt;Error&gt;&lt;Code/&gt;&lt;Message/&gt;…&lt;Resource/&gt;&lt;RequestId/&gt;&lt;/Error&gt;</c> (no namespace, as S3).</summary>
    public static byte[] WriteError(S3ErrorException error, string resource, string requestId) => Write(xml =>
    {
        xml.WriteStartElement("Error");
        xml.WriteElementString("Code", error.Code);
        xml.WriteElementString("Message", error.Message);
        foreach (var (name, value) in error.Details)
            xml.WriteElementString(name, value);
        xml.WriteElementString("Resource", resource);
        xml.WriteElementString("RequestId", requestId);
        xml.WriteEndElement();
    });

    /// <summary>ListBuckets' answer; the owner is the caller's API key id.</summary>
    public static byte[] WriteBuckets(IReadOnlyList<S3Bucket> buckets, string owner) => Write(xml =>
    {
        xml.WriteStartElement("ListAllMyBucketsResult", Namespace);
        xml.WriteStartElement("Owner");
        xml.WriteElementString("ID", owner);
        xml.WriteElementString("DisplayName", owner);
        xml.WriteEndElement();
        xml.WriteStartElement("Buckets");
        foreach (var bucket in buckets)
        {
            xml.WriteStartElement("Bucket");
            xml.WriteElementString("Name", bucket.Name);
            xml.WriteElementString("CreationDate", Time(bucket.Created));
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndElement();
    });

    /// <summary>GetBucketLocation's answer: empty for <c>us-east-1</c>, as S3.</summary>
    public static byte[] WriteLocation(string region) => Write(xml =>
    {
        xml.WriteStartElement("LocationConstraint", Namespace);
        if (region != "us-east-1")
            xml.WriteString(region);
        xml.WriteEndElement();
    });

    /// <summary>
    /// ListObjectsV2's (<paramref name="page"/>.<see cref="S3ListPage.Version"/> 2) or ListObjects' answer. With
    /// <see cref="S3ListPage.UrlEncode"/> (<c>encoding-type=url</c>) keys and prefixes are percent-encoded.
    /// </summary>
    public static byte[] WriteListing(S3ListPage page) => Write(xml =>
    {
        string Text(string value) => page.UrlEncode ? Signing.SigV4.UriEncode(value, keepSlash: true) : value;
        xml.WriteStartElement("ListBucketResult", Namespace);
        xml.WriteElementString("Name", page.Bucket);
        xml.WriteElementString("Prefix", Text(page.Prefix));
        if (page.Version == 2)
        {
            if (page.ContinuationToken is not null)
                xml.WriteElementString("ContinuationToken", page.ContinuationToken);
            if (page.StartAfter is not null)
                xml.WriteElementString("StartAfter", Text(page.StartAfter));
            xml.WriteElementString("KeyCount", (page.Listing.Files.Count + page.Listing.CommonPrefixes.Count).ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            xml.WriteElementString("Marker", Text(page.StartAfter ?? ""));
        }

        xml.WriteElementString("MaxKeys", page.MaxKeys.ToString(CultureInfo.InvariantCulture));
        if (page.Delimiter is not null)
            xml.WriteElementString("Delimiter", Text(page.Delimiter));
        if (page.UrlEncode)
            xml.WriteElementString("EncodingType", "url");
        xml.WriteElementString("IsTruncated", page.Next is not null ? "true" : "false");
        if (page.Next is not null)
            xml.WriteElementString(page.Version == 2 ? "NextContinuationToken" : "NextMarker", page.Version == 2 ? page.Next : Text(page.Next));
        foreach (var file in page.Listing.Files)
        {
            xml.WriteStartElement("Contents");
            xml.WriteElementString("Key", Text(file.Path));
            xml.WriteElementString("LastModified", Time(file.Modified));
            xml.WriteElementString("ETag", file.ETag);
            xml.WriteElementString("Size", file.Length.ToString(CultureInfo.InvariantCulture));
            xml.WriteElementString("StorageClass", "STANDARD");
            xml.WriteEndElement();
        }

        foreach (var prefix in page.Listing.CommonPrefixes)
        {
            xml.WriteStartElement("CommonPrefixes");
            xml.WriteElementString("Prefix", Text(prefix));
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
    });

    /// <summary>CreateMultipartUpload's answer.</summary>
    public static byte[] WriteUploadStarted(string bucket, string key, string uploadId) => Write(xml =>
    {
        xml.WriteStartElement("InitiateMultipartUploadResult", Namespace);
        xml.WriteElementString("Bucket", bucket);
        xml.WriteElementString("Key", key);
        xml.WriteElementString("UploadId", uploadId);
        xml.WriteEndElement();
    });

    /// <summary>CompleteMultipartUpload's answer.</summary>
    public static byte[] WriteUploadCompleted(string location, string bucket, string key, string etag) => Write(xml =>
    {
        xml.WriteStartElement("CompleteMultipartUploadResult", Namespace);
        xml.WriteElementString("Location", location);
        xml.WriteElementString("Bucket", bucket);
        xml.WriteElementString("Key", key);
        xml.WriteElementString("ETag", etag);
        xml.WriteEndElement();
    });

    /// <summary>CopyObject's answer.</summary>
    public static byte[] WriteCopied(VolumeFile copy) => Write(xml =>
    {
        xml.WriteStartElement("CopyObjectResult", Namespace);
        xml.WriteElementString("LastModified", Time(copy.Modified));
        xml.WriteElementString("ETag", copy.ETag);
        xml.WriteEndElement();
    });

    /// <summary>DeleteObjects' answer: the keys deleted (none when <paramref name="quiet"/>) and those that failed, with their errors.</summary>
    public static byte[] WriteDeleted(IReadOnlyList<string> deleted, IReadOnlyList<(string Key, S3ErrorException Error)> failed, bool quiet) => Write(xml =>
    {
        xml.WriteStartElement("DeleteResult", Namespace);
        if (!quiet)
        {
            foreach (var key in deleted)
            {
                xml.WriteStartElement("Deleted");
                xml.WriteElementString("Key", key);
                xml.WriteEndElement();
            }
        }

        foreach (var (key, error) in failed)
        {
            xml.WriteStartElement("Error");
            xml.WriteElementString("Key", key);
            xml.WriteElementString("Code", error.Code);
            xml.WriteElementString("Message", error.Message);
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
    });

    /// <summary>The parts a CompleteMultipartUpload body names, in the order given.</summary>
    /// <exception cref="S3ErrorException">MalformedXML: not such a document, or a part without a number 1–10000 or an ETag.</exception>
    public static IReadOnlyList<S3PartTag> ReadCompleteUpload(byte[] body)
    {
        var root = Read(body, "CompleteMultipartUpload");
        var parts = new List<S3PartTag>();
        foreach (var part in root.Elements().Where(e => e.Name.LocalName == "Part"))
        {
            var number = Child(part, "PartNumber");
            var etag = Child(part, "ETag");
            if (!int.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var partNumber) || partNumber is < 1 or > 10000)
                throw S3Errors.MalformedXml($"Part/PartNumber must be a whole number from 1 to 10000 (got '{number}')");
            if (string.IsNullOrWhiteSpace(etag))
                throw S3Errors.MalformedXml($"Part {partNumber} has no ETag");
            parts.Add(new S3PartTag(partNumber, etag.Trim()));
        }

        return parts.Count > 0 ? parts : throw S3Errors.MalformedXml("CompleteMultipartUpload must name at least one Part");
    }

    /// <summary>The keys a DeleteObjects body names (1–1000) and whether it asks for a quiet answer.</summary>
    /// <exception cref="S3ErrorException">MalformedXML: not such a document, an Object without a Key, no keys or more than 1000.</exception>
    public static (bool Quiet, IReadOnlyList<string> Keys) ReadDelete(byte[] body)
    {
        var root = Read(body, "Delete");
        var quiet = string.Equals(Child(root, "Quiet")?.Trim(), "true", StringComparison.OrdinalIgnoreCase);
        var keys = new List<string>();
        foreach (var item in root.Elements().Where(e => e.Name.LocalName == "Object"))
            keys.Add(Child(item, "Key") ?? throw S3Errors.MalformedXml("every Object must have a Key"));
        return keys.Count is >= 1 and <= 1000 ? (quiet, keys) : throw S3Errors.MalformedXml($"Delete must name 1 to 1000 objects (got {keys.Count})");
    }

    /// <summary>S3's time format: ISO 8601 UTC with milliseconds.</summary>
    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static byte[] Write(Action<XmlWriter> write)
    {
        var buffer = new MemoryStream();
        using (var xml = XmlWriter.Create(buffer, WriterSettings))
        {
            xml.WriteStartDocument();
            write(xml);
            xml.WriteEndDocument();
        }

        return buffer.ToArray();
    }

    private static XElement Read(byte[] body, string rootName)
    {
        XElement root;
        try
        {
            using var reader = XmlReader.Create(new MemoryStream(body), ReaderSettings);
            root = XElement.Load(reader);
        }
        catch (XmlException e)
        {
            throw S3Errors.MalformedXml($"The XML you provided was not well-formed: {e.Message}");
        }

        return root.Name.LocalName == rootName ? root : throw S3Errors.MalformedXml($"expected a {rootName} document, got {root.Name.LocalName}");
    }

    private static string? Child(XElement parent, string name) => parent.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
}

/// <summary>One page of a listing, as ListObjects (version 1) or ListObjectsV2 (version 2) answers it.</summary>
/// <param name="Version">1 or 2.</param>
/// <param name="Bucket">The bucket.</param>
/// <param name="Prefix">The prefix asked for.</param>
/// <param name="Delimiter">The delimiter asked for.</param>
/// <param name="MaxKeys">The page size asked for.</param>
/// <param name="StartAfter">Version 2: <c>start-after</c>; version 1: <c>marker</c>.</param>
/// <param name="ContinuationToken">Version 2: the token asked with.</param>
/// <param name="Next">The next page's continuation token (version 2) or marker (version 1); null on the last page.</param>
/// <param name="UrlEncode">Keys and prefixes percent-encoded (<c>encoding-type=url</c>).</param>
/// <param name="Listing">The keys and common prefixes.</param>
public sealed record S3ListPage(int Version, string Bucket, string Prefix, string? Delimiter, int MaxKeys, string? StartAfter, string? ContinuationToken, string? Next, bool UrlEncode, VolumeListing Listing);
