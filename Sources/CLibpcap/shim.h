// The only C in SpanAudit: libpcap, for live capture and BPF filters.
// Capture files are read by pure Swift readers (Sources/Capture).
#include <pcap/pcap.h>
