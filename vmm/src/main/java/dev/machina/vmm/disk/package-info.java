/**
 * Disk images as virtio-blk presents them to a guest: {@link dev.machina.vmm.disk.DiskImage} is
 * the whole interface, opened from a {@link dev.machina.vmm.config.BlockSpec}. A raw file is read
 * and written as it is; a qcow2 file through its cluster tables ({@code Qcow2Header},
 * {@code Qcow2Map}, {@code Qcow2Refcounts}), with backing files; a volatile disk keeps the
 * guest's writes in memory over either.
 */
package dev.machina.vmm.disk;
