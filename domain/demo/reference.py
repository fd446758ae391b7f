"""Reference data for a believable Indian operator: circles, cities, vendors, plans, destinations."""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalog.choices import ProductLine, RatingUnit, Segment, Service, Zone
from domain.inventory.choices import DeviceRole, Platform


@dataclass(frozen=True)
class Circle:
    code: str
    name: str
    city: str
    lat: float
    lon: float
    #: Relative share of subscribers and sites.
    weight: float


CIRCLES: tuple[Circle, ...] = (
    Circle("MUM", "Mumbai", "Mumbai", 19.07, 72.88, 1.6),
    Circle("DEL", "Delhi NCR", "New Delhi", 28.61, 77.21, 1.6),
    Circle("KA", "Karnataka", "Bengaluru", 12.97, 77.59, 1.3),
    Circle("TN", "Tamil Nadu", "Chennai", 13.08, 80.27, 1.1),
    Circle("MH", "Maharashtra & Goa", "Pune", 18.52, 73.86, 1.0),
    Circle("KOL", "Kolkata", "Kolkata", 22.57, 88.36, 0.9),
    Circle("GJ", "Gujarat", "Ahmedabad", 23.02, 72.57, 0.9),
    Circle("AP", "Andhra Pradesh & Telangana", "Hyderabad", 17.39, 78.49, 1.0),
    Circle("KL", "Kerala", "Kochi", 9.93, 76.27, 0.8),
    Circle("UPE", "Uttar Pradesh East", "Lucknow", 26.85, 80.95, 0.9),
    Circle("RJ", "Rajasthan", "Jaipur", 26.91, 75.79, 0.6),
    Circle("PB", "Punjab", "Chandigarh", 30.73, 76.78, 0.5),
)

#: Localities used to name exchanges, PoPs and towers.
LOCALITIES = (
    "Andheri", "Bandra", "Powai", "Worli", "Vashi", "Saket", "Dwarka", "Noida", "Gurugram",
    "Whitefield", "Koramangala", "Hebbal", "Adyar", "Guindy", "Velachery", "Hinjewadi",
    "Kothrud", "Salt Lake", "Howrah", "Navrangpura", "Satellite", "Gachibowli", "Madhapur",
    "Kakkanad", "Edappally", "Gomti Nagar", "Hazratganj", "Malviya Nagar", "Vaishali",
    "Mohali", "Panchkula", "Thane", "Borivali", "Chembur", "Rohini", "Yelahanka", "Tambaram",
)


@dataclass(frozen=True)
class DeviceModel:
    platform: Platform
    model: str
    os_versions: tuple[str, ...]
    roles: tuple[DeviceRole, ...]


DEVICE_MODELS: tuple[DeviceModel, ...] = (
    DeviceModel(Platform.CISCO_XR, "ASR-9906", ("7.9.2", "7.10.1"), (DeviceRole.CORE, DeviceRole.PE)),
    DeviceModel(Platform.JUNIPER_JUNOS, "MX960", ("22.4R3", "23.2R1"), (DeviceRole.CORE, DeviceRole.PE, DeviceRole.BNG)),
    DeviceModel(Platform.NOKIA_SROS, "7750 SR-7", ("23.10.R2",), (DeviceRole.CORE, DeviceRole.PE)),
    DeviceModel(Platform.ARISTA_EOS, "7280R3", ("4.31.2F", "4.32.1F"), (DeviceRole.AGGREGATION, DeviceRole.PE)),
    DeviceModel(Platform.CISCO_NXOS, "Nexus 93180YC-FX", ("10.3(4a)",), (DeviceRole.AGGREGATION,)),
    DeviceModel(Platform.HUAWEI_VRP, "NE40E-X8A", ("V800R021C10",), (DeviceRole.AGGREGATION, DeviceRole.BNG)),
    DeviceModel(Platform.CISCO_IOS, "ASR-920-24SZ", ("16.12.8", "17.6.5"), (DeviceRole.ACCESS, DeviceRole.RAN)),
    DeviceModel(Platform.CISCO_IOS, "ISR-4451", ("17.9.4",), (DeviceRole.ACCESS,)),
    DeviceModel(Platform.JUNIPER_JUNOS, "ACX7100", ("23.2R1",), (DeviceRole.ACCESS, DeviceRole.RAN)),
    DeviceModel(Platform.HUAWEI_VRP, "ATN 910C", ("V300R007C10",), (DeviceRole.ACCESS, DeviceRole.RAN)),
    DeviceModel(Platform.ARISTA_EOS, "7050SX3", ("4.31.2F",), (DeviceRole.ACCESS,)),
    DeviceModel(Platform.CISCO_IOS, "Firepower 2130", ("7.2.5",), (DeviceRole.FIREWALL,)),
)

#: The lab's platforms: the ones whose configuration mode the simulated devices speak.
LAB_PLATFORMS = (Platform.CISCO_IOS, Platform.ARISTA_EOS)

FIRST_NAMES = (
    "Aarav", "Vivaan", "Aditya", "Vihaan", "Arjun", "Sai", "Reyansh", "Krishna", "Ishaan",
    "Rohan", "Rahul", "Amit", "Suresh", "Ramesh", "Vikram", "Karthik", "Harish", "Manoj",
    "Anil", "Deepak", "Priya", "Ananya", "Diya", "Aadhya", "Saanvi", "Kavya", "Meera",
    "Lakshmi", "Pooja", "Sneha", "Neha", "Divya", "Anjali", "Sunita", "Rekha", "Fatima",
    "Ayesha", "Imran", "Salman", "Gurpreet", "Harpreet", "Joseph", "Mary", "Thomas", "Tenzin",
)
LAST_NAMES = (
    "Sharma", "Verma", "Gupta", "Patel", "Shah", "Reddy", "Rao", "Naidu", "Iyer", "Iyengar",
    "Nair", "Menon", "Pillai", "Das", "Banerjee", "Chatterjee", "Mukherjee", "Singh", "Kaur",
    "Khan", "Qureshi", "Sheikh", "Joshi", "Kulkarni", "Deshpande", "Patil", "Jain", "Agarwal",
    "Mehta", "Bhat", "Hegde", "Gowda", "Yadav", "Mishra", "Tiwari", "Pandey", "Fernandes",
    "D'Souza", "Mathew", "Varghese",
)
COMPANY_WORDS = (
    "Logistics", "Textiles", "Infotech", "Pharma", "Engineering", "Foods", "Motors", "Finance",
    "Retail", "Hospitals", "Cements", "Steel", "Exports", "Software", "Hotels", "Education",
)
COMPANY_SUFFIX = ("Pvt Ltd", "Ltd", "LLP", "Industries")

#: Type allocation codes of common handsets (first 8 digits of an IMEI).
HANDSET_TACS = (
    "35332811", "35875311", "86769204", "86012305", "35391110", "35404911", "86483005",
    "35209211", "86891103", "35672011", "86175305", "35922410",
)


@dataclass(frozen=True)
class OfferingSpec:
    code: str
    name: str
    segment: Segment
    product_line: ProductLine
    monthly_fee: int  # rupees
    one_off_fee: int
    voice_min: int
    sms: int
    data_mb: int
    roaming_surcharge_pct: int
    #: Share of new subscriptions of this segment taking this offering.
    weight: float


OFFERINGS: tuple[OfferingSpec, ...] = (
    OfferingSpec("POST-399", "Postpaid 399", Segment.CONSUMER, ProductLine.MOBILE_POSTPAID, 399, 0, 1000, 1000, 40_960, 20, 0.40),
    OfferingSpec("POST-599", "Postpaid 599 Family", Segment.CONSUMER, ProductLine.MOBILE_POSTPAID, 599, 0, 3000, 3000, 76_800, 15, 0.25),
    OfferingSpec("POST-999", "Postpaid 999 Infinity", Segment.CONSUMER, ProductLine.MOBILE_POSTPAID, 999, 0, 10000, 3000, 153_600, 10, 0.10),
    OfferingSpec("FIBRE-100", "Fibre 100 Mbps", Segment.CONSUMER, ProductLine.BROADBAND, 799, 1000, 0, 0, 3_276_800, 0, 0.15),
    OfferingSpec("FIBRE-300", "Fibre 300 Mbps", Segment.CONSUMER, ProductLine.BROADBAND, 1199, 1000, 0, 0, 3_276_800, 0, 0.10),
    OfferingSpec("BIZ-MOB-799", "Business Mobile 799", Segment.ENTERPRISE, ProductLine.MOBILE_POSTPAID, 799, 0, 5000, 3000, 102_400, 10, 0.80),
    OfferingSpec("ILL-100", "Internet Leased Line 100 Mbps", Segment.ENTERPRISE, ProductLine.LEASED_LINE, 45_000, 25_000, 0, 0, 0, 0, 0.14),
    OfferingSpec("ILL-1G", "Internet Leased Line 1 Gbps", Segment.ENTERPRISE, ProductLine.LEASED_LINE, 250_000, 50_000, 0, 0, 0, 0, 0.06),
)

#: Out-of-allowance prices in paise per unit, by service and zone.
TARIFFS: tuple[tuple[Service, Zone, RatingUnit, int], ...] = (
    (Service.VOICE, Zone.NATIONAL, RatingUnit.MINUTE, 60),
    (Service.VOICE, Zone.INTL_A, RatingUnit.MINUTE, 1200),
    (Service.VOICE, Zone.INTL_B, RatingUnit.MINUTE, 1500),
    (Service.VOICE, Zone.INTL_C, RatingUnit.MINUTE, 3000),
    (Service.VOICE, Zone.PREMIUM, RatingUnit.SECOND, 250),
    (Service.SMS, Zone.NATIONAL, RatingUnit.MESSAGE, 100),
    (Service.SMS, Zone.INTL_A, RatingUnit.MESSAGE, 500),
    (Service.SMS, Zone.INTL_B, RatingUnit.MESSAGE, 500),
    (Service.SMS, Zone.INTL_C, RatingUnit.MESSAGE, 500),
    (Service.SMS, Zone.PREMIUM, RatingUnit.MESSAGE, 1000),
    (Service.DATA, Zone.NATIONAL, RatingUnit.MEGABYTE, 50),
)


@dataclass(frozen=True)
class DestinationSpec:
    prefix: str
    country: str
    name: str
    zone: Zone
    high_cost: bool = False


DESTINATIONS: tuple[DestinationSpec, ...] = (
    DestinationSpec("91", "IN", "India", Zone.NATIONAL),
    DestinationSpec("971", "AE", "United Arab Emirates", Zone.INTL_A),
    DestinationSpec("966", "SA", "Saudi Arabia", Zone.INTL_A),
    DestinationSpec("974", "QA", "Qatar", Zone.INTL_A),
    DestinationSpec("965", "KW", "Kuwait", Zone.INTL_A),
    DestinationSpec("968", "OM", "Oman", Zone.INTL_A),
    DestinationSpec("973", "BH", "Bahrain", Zone.INTL_A),
    DestinationSpec("977", "NP", "Nepal", Zone.INTL_A),
    DestinationSpec("880", "BD", "Bangladesh", Zone.INTL_A),
    DestinationSpec("94", "LK", "Sri Lanka", Zone.INTL_A),
    DestinationSpec("1", "US", "United States / Canada", Zone.INTL_B),
    DestinationSpec("44", "GB", "United Kingdom", Zone.INTL_B),
    DestinationSpec("49", "DE", "Germany", Zone.INTL_B),
    DestinationSpec("33", "FR", "France", Zone.INTL_B),
    DestinationSpec("65", "SG", "Singapore", Zone.INTL_B),
    DestinationSpec("61", "AU", "Australia", Zone.INTL_B),
    DestinationSpec("81", "JP", "Japan", Zone.INTL_B),
    DestinationSpec("60", "MY", "Malaysia", Zone.INTL_B),
    DestinationSpec("234", "NG", "Nigeria", Zone.INTL_C),
    DestinationSpec("254", "KE", "Kenya", Zone.INTL_C),
    DestinationSpec("27", "ZA", "South Africa", Zone.INTL_C),
    DestinationSpec("55", "BR", "Brazil", Zone.INTL_C),
    DestinationSpec("7", "RU", "Russia", Zone.INTL_C),
    DestinationSpec("62", "ID", "Indonesia", Zone.INTL_C),
    # High-cost ranges known for international revenue share fraud.
    DestinationSpec("53", "CU", "Cuba", Zone.PREMIUM, high_cost=True),
    DestinationSpec("252", "SO", "Somalia", Zone.PREMIUM, high_cost=True),
    DestinationSpec("232", "SL", "Sierra Leone", Zone.PREMIUM, high_cost=True),
    DestinationSpec("224", "GN", "Guinea", Zone.PREMIUM, high_cost=True),
    DestinationSpec("675", "PG", "Papua New Guinea", Zone.PREMIUM, high_cost=True),
    DestinationSpec("688", "TV", "Tuvalu", Zone.PREMIUM, high_cost=True),
    DestinationSpec("674", "NR", "Nauru", Zone.PREMIUM, high_cost=True),
    DestinationSpec("239", "ST", "Sao Tome and Principe", Zone.PREMIUM, high_cost=True),
    DestinationSpec("3712", "LV", "Latvia premium", Zone.PREMIUM, high_cost=True),
    DestinationSpec("8816", "XS", "Iridium satellite", Zone.PREMIUM, high_cost=True),
)

#: Countries Indian subscribers roam to, with the visited network's MCC.
ROAMING_COUNTRIES: tuple[tuple[str, str], ...] = (
    ("AE", "424"), ("SA", "420"), ("SG", "525"), ("GB", "234"), ("US", "310"),
    ("TH", "520"), ("QA", "427"), ("NP", "429"), ("MY", "502"), ("DE", "262"),
)
